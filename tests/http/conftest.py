"""Black-box fixtures for rosterd: a real `rosterd serve` on 127.0.0.1:0 over a
temporary copy of the repository's profiles plus tests/http/fixtures, and an
HTTP client that validates every response against openapi/openapi.yaml.

Run: /usr/bin/python3 -m pytest -q tests/http   (ROSTERD overrides the binary)
"""
import gzip
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import warnings
from pathlib import Path

import pytest
import requests
import yaml

try:  # jsonschema >= 4.18 deprecates RefResolver; bookworm has 4.10
    from jsonschema import Draft202012Validator, RefResolver
except ImportError:  # pragma: no cover
    raise

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
FIXTURES = HERE / "fixtures"
SPEC_PATH = REPO / "openapi" / "openapi.yaml"
ROSTERD = Path(os.environ.get("ROSTERD", str(REPO / "build" / "service" / "rosterd")))
# ROSTERD_WRAPPER runs the server under a tool, e.g. scripts/test.sh's valgrind
# phase: "valgrind --error-exitcode=99 --leak-check=full --log-file=..."; a
# server that ends with that exit code fails the test that stopped it.
WRAPPER = os.environ.get("ROSTERD_WRAPPER", "").split()
WRAPPER_ERROR = 99
SLOW = 20 if WRAPPER else 1
if not ROSTERD.is_absolute():
    ROSTERD = (REPO / ROSTERD).resolve()

HOST = "127.0.0.1"
METHODS = ("get", "head", "options", "post", "put", "patch", "delete")
JSON_TYPES = ("application/json", "application/problem+json", "application/vnd.roster.projection+json")


# ----------------------------------------------------------------- the spec
def load_spec():
    with open(SPEC_PATH, "rb") as f:
        return yaml.safe_load(f)


class Spec:
    """openapi/openapi.yaml: path matching, $ref resolution, JSON Schema validation."""

    def __init__(self, doc):
        self.doc = doc
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self.resolver = RefResolver.from_schema(doc)
        self._templates = []
        for tpl in doc["paths"]:
            segs = tpl.strip("/").split("/")
            literal = sum(1 for s in segs if not s.startswith("{"))
            self._templates.append((tpl, segs, literal))

    def match(self, path):
        """The path template for a concrete path (query stripped), or None."""
        path = path.split("?", 1)[0]
        segs = path.strip("/").split("/") if path != "/" else [""]
        if not path.startswith("/") or "" in path[1:].split("/"):
            return None
        best = None
        for tpl, tsegs, literal in self._templates:
            if len(tsegs) != len(segs):
                continue
            if all(t.startswith("{") or t == s for t, s in zip(tsegs, segs)):
                if best is None or literal > best[1]:
                    best = (tpl, literal)
        return best[0] if best else None

    def deref(self, obj):
        while isinstance(obj, dict) and "$ref" in obj:
            ptr = obj["$ref"]
            assert ptr.startswith("#/"), ptr
            obj = self.doc
            for part in ptr[2:].split("/"):
                obj = obj[part.replace("~1", "/").replace("~0", "~")]
        return obj

    def schema(self, name):
        return {"$ref": f"#/components/schemas/{name}"}

    def validate(self, instance, schema):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            Draft202012Validator(schema, resolver=self.resolver).validate(instance)

    def operations(self):
        for tpl, item in self.doc["paths"].items():
            for m in METHODS:
                if m in item:
                    yield tpl, m


SPEC = Spec(load_spec())
# (path template, method) pairs that got a response validated against the spec
COVERAGE = set()


def media_base(ct):
    return ct.split(";", 1)[0].strip().lower()


def check_response(method, path, status, headers, body, *, spec=SPEC, record=True):
    """Validates one response (headers: case-insensitive mapping, body: identity
    bytes) against the spec. Returns the parsed JSON body or None."""
    method = method.lower()
    tpl = spec.match(path)
    path = path if len(path) <= 120 else path[:120] + "..."
    op = spec.doc["paths"][tpl].get(method) if tpl else None
    resp = None
    if op is not None:
        assert str(status) in op["responses"], f"{status} is not documented for {method.upper()} {tpl}"
        resp = spec.deref(op["responses"][str(status)])
        if record:
            COVERAGE.add((tpl, method))
    elif tpl is not None and status == 405:
        # a method the path does not declare: the contract describes that 405
        # once, as components/responses/MethodNotAllowed
        resp = spec.deref(spec.doc["components"]["responses"]["MethodNotAllowed"])
    if resp is None:
        # no route: every such answer is a problem document
        assert status in (400, 404, 405, 414, 431), (method, path, status)
        resp = {"content": {"application/problem+json": {"schema": spec.schema("Problem")}}, "headers": {}}
        assert "X-Request-Id" in headers
    for name, h in (resp.get("headers") or {}).items():
        h = spec.deref(h)
        if name.lower() == "content-type":
            continue
        if h.get("required"):
            assert name in headers, f"{method.upper()} {path} -> {status}: missing header {name}"
        if name in headers:
            spec.validate(headers[name], h.get("schema", {}))
    if method == "head" or status in (204, 304):
        assert body == b"", f"{method.upper()} {path} -> {status} has a body"
        return None
    content = resp.get("content") or {}
    if not content:
        assert body == b"", f"{method.upper()} {path} -> {status}: body where none is documented"
        return None
    ct = headers.get("Content-Type")
    assert ct, f"{method.upper()} {path} -> {status}: no Content-Type"
    media = content.get(ct)
    if media is None:
        media = next((v for k, v in content.items() if media_base(k) == media_base(ct)), None)
    assert media is not None, f"{method.upper()} {path} -> {status}: {ct} not in {list(content)}"
    if media_base(ct) in JSON_TYPES:
        doc = json.loads(body)
        spec.validate(doc, media["schema"])
        if media_base(ct) == "application/problem+json":
            assert doc["status"] == status
            assert doc["request_id"] == headers.get("X-Request-Id")
            assert doc["type"] == "urn:roster:problem:" + doc["code"]
        return doc
    spec.validate(body.decode("utf-8"), media.get("schema", {}))
    return None


class Api:
    """requests.Session wrapper: every response is checked with check_response.
    r.content / r.json() give the identity bytes; r.wire is what was sent."""

    def __init__(self, base):
        self.base = base
        self.session = requests.Session()

    def request(self, method, path, headers=None, params=None, data=None, timeout=10, check=True):
        r = self.session.request(
            method, self.base + path, headers=headers, params=params, data=data, timeout=timeout,
            stream=True, allow_redirects=False,
        )
        wire = r.raw.read(decode_content=False)
        r.wire = wire
        if r.headers.get("Content-Encoding") == "gzip" and method.upper() != "HEAD":
            r._content = gzip.decompress(wire)
        else:
            r._content = wire
        r._content_consumed = True
        r.close()
        # a 304 (and HEAD) carries the length a 200 would have had, and no body
        if method.upper() != "HEAD" and r.status_code != 304 and "Content-Length" in r.headers:
            assert int(r.headers["Content-Length"]) == len(wire), "Content-Length differs from the body"
        if r.status_code == 304:
            assert wire == b"", "a 304 has no body"
        if check:
            r.doc = check_response(method, r.request.path_url, r.status_code, r.headers, r.content)
        return r

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def head(self, path, **kw):
        return self.request("HEAD", path, **kw)

    def options(self, path, **kw):
        return self.request("OPTIONS", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def close(self):
        self.session.close()


class RawResponse:
    def __init__(self, status, headers, body):
        self.status_code = status
        self.headers = headers
        self.content = body

    def json(self):
        return json.loads(self.content)


def raw_request(port, method, target, headers=(), body=b"", check=True, path_for_spec=None):
    """Sends a request with the target bytes exactly as given (no normalization)."""
    if isinstance(target, str):
        target = target.encode("ascii")
    req = method.encode() + b" " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    for k, v in headers:
        req += f"{k}: {v}\r\n".encode("latin-1")
    req += b"\r\n" + body
    with socket.create_connection((HOST, port), timeout=10) as s:
        s.sendall(req)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = requests.structures.CaseInsensitiveDict()
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k in hdrs:
            hdrs[k] = hdrs[k] + ", " + v.strip()
        else:
            hdrs[k] = v.strip()
    n = int(hdrs.get("Content-Length", len(rest)))
    body = b"" if method == "HEAD" else rest[:n]
    if check:
        spec_path = path_for_spec or target.decode("latin-1")
        check_response(method, spec_path, status, hdrs, body)
    return RawResponse(status, hdrs, body)


# ----------------------------------------------------------------- the server
def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROSTER_")}
    env.update(extra or {})
    return env


def make_profiles(dest, fixtures=True):
    """Copies the repository's profiles (and the test fixtures) into dest."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for src in sorted((REPO / "profiles").glob("*.md")):
        shutil.copyfile(src, dest / src.name)
    if fixtures:
        for src in sorted(FIXTURES.glob("*.md")):
            shutil.copyfile(src, dest / src.name)
    return dest


class Server:
    def __init__(self, profiles, args=(), env=None, wrapped=True):
        """wrapped=False runs rosterd without ROSTERD_WRAPPER: for servers a
        test kills with SIGKILL, which leaves valgrind no time to write its
        summary (the wrapper's check would read that as a failure)."""
        self.profiles = Path(profiles)
        self.wrapper = WRAPPER if wrapped else []
        self.args = list(args)
        self.env = clean_env(env)
        self.proc = None
        self.lines = []  # raw stderr lines (bytes)
        self.cond = threading.Condition()
        self.port = None
        self.returncode = None
        self.clients = []  # Api objects: closed before stopping (idle keep-alive delays a drain)

    @property
    def base(self):
        return f"http://{HOST}:{self.port}"

    def start(self, timeout=10):
        timeout *= SLOW
        cmd = [*self.wrapper, str(ROSTERD), "serve", "--listen", f"{HOST}:0", "--profiles",
               str(self.profiles), *self.args]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=self.env)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        line = self.wait_for(lambda d: d.get("event") == "start", timeout=timeout)
        assert line is not None, f"rosterd did not start: {self.stderr_text()}"
        self.port = int(line["port"])
        return self

    def _read(self):
        for line in iter(self.proc.stderr.readline, b""):
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def stderr_text(self):
        with self.cond:
            return b"".join(self.lines).decode("utf-8", "replace")

    def records(self):
        """Every stderr line parsed as JSON (lines that are not JSON are skipped)."""
        out = []
        with self.cond:
            lines = list(self.lines)
        for raw in lines:
            try:
                out.append(json.loads(raw))
            except ValueError:
                pass
        return out

    def wait_for(self, pred, timeout=5.0):
        deadline = time.monotonic() + timeout
        seen = 0
        with self.cond:
            while True:
                while seen < len(self.lines):
                    raw = self.lines[seen]
                    seen += 1
                    try:
                        d = json.loads(raw)
                    except ValueError:
                        continue
                    if pred(d):
                        return d
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and seen >= len(self.lines)):
                    return None
                self.cond.wait(min(left, 0.1))

    def request_line(self, request_id, timeout=5.0):
        return self.wait_for(lambda d: d.get("event") == "request" and d.get("request_id") == request_id,
                             timeout=timeout)

    def api(self):
        a = Api(self.base)
        self.clients.append(a)
        return a

    def signal(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)

    def stop(self, timeout=15 * SLOW):
        if self.proc is None:
            return None
        for a in self.clients:
            a.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.reader.join(5)
        self.proc.stderr.close()
        self.returncode = self.proc.returncode
        if WRAPPER and self.returncode == WRAPPER_ERROR:
            raise AssertionError(f"{WRAPPER[0]} reported errors in rosterd (see its log file)")
        return self.returncode


@pytest.fixture(scope="session")
def rosterd():
    if not ROSTERD.exists():
        pytest.fail(f"{ROSTERD} does not exist: build it (ninja -C build) or set ROSTERD")
    return ROSTERD


@pytest.fixture(scope="session")
def spec():
    return SPEC


@pytest.fixture(scope="session")
def server(rosterd, tmp_path_factory):
    """The shared server: its profiles directory is never modified."""
    d = make_profiles(tmp_path_factory.mktemp("shared") / "profiles")
    srv = Server(d).start()
    yield srv
    assert srv.stop() == 0, "rosterd did not exit 0: " + srv.stderr_text()[-2000:]


@pytest.fixture
def api(server):
    a = server.api()
    yield a
    a.close()


@pytest.fixture
def spawn(rosterd, tmp_path):
    """Starts dedicated servers (for tests that change files or flags)."""
    started = []

    def _spawn(args=(), env=None, profiles=None, fixtures=True):
        d = profiles or make_profiles(tmp_path / f"profiles{len(started)}", fixtures=fixtures)
        srv = Server(d, args=args, env=env).start()
        started.append(srv)
        return srv

    yield _spawn
    codes = [(srv, srv.stop()) for srv in started]
    for srv, rc in codes:
        assert rc == 0, "rosterd did not exit 0: " + srv.stderr_text()[-2000:]


def profile_ids(api, **params):
    """Every served id, paging through the list."""
    ids, cursor = [], None
    while True:
        p = dict(params, limit=500)
        if cursor:
            p["cursor"] = cursor
        r = api.get("/v1/profiles", params=p)
        assert r.status_code == 200
        ids += [i["id"] for i in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            return ids


FIXTURE_IDS = {"fx-leaf", "fx-list-parent", "fx-minimal"}
INVALID_FIXTURE_IDS = {"fx-broken", "fx-orphan"}
VIEWS = {
    "role": "role",
    "competencies": "competencies",
    "work-patterns": "work_patterns",
    "tool-priorities": "tool_priorities",
    "output-standards": "output_standards",
    "anti-patterns": "anti_patterns",
    "sections": "sections",
    "lineage": "lineage",
    "variables": "variables",
}
ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}$")
GENERATED_ID_RE = re.compile(r"^[0-9a-f]{12}-[0-9a-f]{12}$")
