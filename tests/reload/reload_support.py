"""Helpers for the live-reload tests: a real `rosterd serve` on 127.0.0.1:0
over a private copy of the repository's profiles, log-line waiting, profile
writers, version markers, a Server-Sent Events client and small parsers.

Imported by conftest.py and the test modules of this package (relative imports;
the package keeps these names apart from tests/http).
"""
import hashlib
import http.client
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
PROFILES = REPO / "profiles"
PROFILE_FILES = ("base.md", "worker-devops.md", "worker-sre.md")
ROSTERD = Path(os.environ.get("ROSTERD", str(REPO / "build" / "service" / "rosterd")))
if not ROSTERD.is_absolute():
    ROSTERD = (REPO / ROSTERD).resolve()

HOST = "127.0.0.1"
# The documented observation bound for file changes (debounce is 200 ms).
OBSERVE_S = 1.0
# Generous bound for things that are not the subject of the test.
SLOW_S = 15.0

BROKEN_YAML = "---\nid: {id}\nname: [unclosed\ncategory: worker\n---\n\n# Broken\n\nNot valid.\n"


# ----------------------------------------------------------------- files
def original(name):
    return (PROFILES / name).read_text(encoding="utf-8")


def copy_profiles(dest):
    """Copies base.md, worker-devops.md and worker-sre.md into dest."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for name in PROFILE_FILES:
        shutil.copyfile(PROFILES / name, dest / name)
    return dest


def write_in_place(path, text):
    """Rewrites a file in place (truncate + write), as most editors'
    plain save does. Returns when the data is in the file."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
    finally:
        os.close(fd)


def write_atomic(path, text):
    """Writes a hidden temporary file next to path and renames it over path."""
    path = Path(path)
    tmp = path.with_name("." + path.name + ".tmp")
    write_in_place(tmp, text)
    os.replace(tmp, path)


def set_field(text, key, value):
    """Replaces a top-level front matter scalar (`key: ...`)."""
    new, n = re.subn(rf"(?m)^{re.escape(key)}:.*$", f"{key}: {value}", text, count=1)
    assert n == 1, f"no {key} in front matter"
    return new


# ------------------------------------------------------- version markers
MARK_RE = re.compile(r"REV\[([a-z0-9-]+):(\d+)\]")


def mark(pid, version):
    return f"REV[{pid}:{version}]"


def versioned(name, version):
    """The repository's profile `name` with a version marker in its name,
    its description and the first paragraph of its body (which descendants
    inherit as a section and in their prompt)."""
    text = original(name)
    pid = name[:-3]
    m = mark(pid, version)
    out, n1 = re.subn(r"(?m)^(name: .*)$", rf"\1 {m}", text, count=1)
    out, n2 = re.subn(r"(?m)^(description: .*)$", rf"\1 {m}", out, count=1)
    out, n3 = re.subn(r"(?m)^(You are .*)$", rf"\1 {m}", out, count=1)
    assert n1 == n2 == n3 == 1, name
    return out


def versions_in(body):
    """{profile id: set(versions)} for every marker found in body (bytes or str)."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    found = {}
    for pid, v in MARK_RE.findall(body):
        found.setdefault(pid, set()).add(int(v))
    return found


# --------------------------------------------------------------- parsing
def generation(headers):
    """The snapshot generation that answered (Roster-Generation header)."""
    g = headers.get("Roster-Generation")
    assert g and g.isdigit(), f"unexpected Roster-Generation {g!r}"
    return int(g)


def etag_shape(etag):
    """'"<32 hex>"' or '"<32 hex>-gz"': content-addressed, no generation."""
    m = re.fullmatch(r'"([0-9a-f]{32})(-gz)?"', etag or "")
    assert m, f"unexpected ETag {etag!r}"
    return m.group(1)


def sha256_32(body):
    return hashlib.sha256(body).hexdigest()[:32]


def metric(text, name, labels=None):
    """The value of one sample in Prometheus text, or None."""
    want = name
    if labels:
        want += "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        if key == want:
            return float(value)
    return None


def poll(fn, timeout, interval=0.01):
    """Calls fn until it returns a truthy value or timeout passes; returns
    (value, seconds elapsed). The last value is returned on timeout."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    while True:
        v = fn()
        now = time.monotonic()
        if v or now >= deadline:
            return v, now - t0
        time.sleep(min(interval, max(0.0, deadline - now)))


# ---------------------------------------------------------------- server
def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROSTER_")}
    env.update(extra or {})
    return env


class Server:
    """One `rosterd serve` process. stderr is read by a thread; every line
    is kept so tests can wait for log events."""

    def __init__(self, profiles, args=(), env=None):
        self.profiles = Path(profiles)
        self.args = [str(a) for a in args]
        self.env = clean_env(env)
        self.proc = None
        self.lines = []
        self.cond = threading.Condition()
        self.port = None
        self.returncode = None
        self.session = None

    # -- lifecycle
    def start(self, timeout=SLOW_S):
        cmd = [str(ROSTERD), "serve", "--listen", f"{HOST}:0", "--profiles", str(self.profiles), *self.args]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=self.env)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        line = self.wait_for(lambda d: d.get("event") == "start", timeout=timeout, since=0)
        if line is None:
            self.stop()
            raise AssertionError(f"rosterd did not start: {self.stderr_text()}")
        self.port = int(line["port"])
        self.session = requests.Session()
        return self

    def _read(self):
        for line in iter(self.proc.stderr.readline, b""):
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    @property
    def pid(self):
        return self.proc.pid

    @property
    def base(self):
        return f"http://{HOST}:{self.port}"

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def sighup(self):
        self.proc.send_signal(signal.SIGHUP)

    def stop(self, timeout=20):
        if self.proc is None:
            return None
        if self.session is not None:
            self.session.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.reader.join(5)
        self.proc.stderr.close()
        self.returncode = self.proc.returncode
        return self.returncode

    # -- logs
    def stderr_text(self):
        with self.cond:
            return b"".join(self.lines).decode("utf-8", "replace")

    def mark(self):
        """The current number of stderr lines (pass as since= to wait_for)."""
        with self.cond:
            return len(self.lines)

    def records(self, since=0, event=None):
        with self.cond:
            lines = list(self.lines[since:])
        out = []
        for raw in lines:
            try:
                d = json.loads(raw)
            except ValueError:
                continue
            if event is None or d.get("event") == event:
                out.append(d)
        return out

    def wait_for(self, pred, timeout=SLOW_S, since=None):
        """The first log record at or after line `since` (default: now)
        that satisfies pred, or None after timeout."""
        deadline = time.monotonic() + timeout
        with self.cond:
            seen = len(self.lines) if since is None else since
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

    def wait_reload(self, generation, timeout=SLOW_S, since=0):
        """Waits for the `reload` log line that reaches `generation` (or later)."""
        return self.wait_for(lambda d: d.get("event") == "reload" and d.get("generation", 0) >= generation,
                             timeout=timeout, since=since)

    # -- http
    def get(self, path, headers=None, timeout=10, **kw):
        return self.session.get(self.base + path, headers=headers, timeout=timeout, **kw)

    def post(self, path, headers=None, timeout=10, **kw):
        return self.session.post(self.base + path, headers=headers, timeout=timeout, **kw)

    def head(self, path, headers=None, timeout=10, **kw):
        return self.session.head(self.base + path, headers=headers, timeout=timeout, **kw)

    def generation(self):
        r = self.get("/ready")
        assert r.status_code == 200, r.text
        return int(r.json()["generation"])

    def metrics(self):
        r = self.get("/metrics")
        assert r.status_code == 200
        return r.text

    def rss_kb(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def cpu_seconds(self):
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks


    def socket_count(self):
        """Sockets the server process holds open (listener + connections)."""
        n = 0
        fd_dir = f"/proc/{self.pid}/fd"
        for name in os.listdir(fd_dir):
            try:
                if os.readlink(os.path.join(fd_dir, name)).startswith("socket:"):
                    n += 1
            except OSError:
                pass  # closed meanwhile
        return n


# ------------------------------------------------------------------- SSE
class SSEClient:
    """Reads GET /v1/events in a thread; parsed events land in a queue.
    Each item: {"id": int|None, "event": str, "data": obj, "raw": str} for
    events, {"comment": str} for comment lines, {"retry": int} for retry
    fields, and None when the stream ends."""

    def __init__(self, port, last_event_id=None, timeout=30.0):
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.conn.request("GET", "/v1/events", headers=headers)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = self.resp.headers
        self.items = queue.Queue()
        self.closed = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        fields = {}
        try:
            while True:
                raw = self.resp.readline()
                if not raw:
                    break
                line = raw.decode("utf-8").rstrip("\r\n")
                if line == "":
                    if "data" in fields or "event" in fields:
                        data = fields.get("data", "")
                        try:
                            obj = json.loads(data)
                        except ValueError:
                            obj = data
                        # ids are "<boot>-<n>"; "id" is n, "boot" the process's part
                        boot, _, n = fields.get("id", "").rpartition("-")
                        self.items.put({"id": int(n) if n else None, "boot": boot or None,
                                        "eid": fields.get("id"),
                                        "event": fields.get("event", "message"), "data": obj,
                                        "raw": data})
                    fields = {}
                elif line.startswith(":"):
                    self.items.put({"comment": line[1:].strip()})
                else:
                    k, _, v = line.partition(":")
                    v = v[1:] if v.startswith(" ") else v
                    if k == "retry":
                        self.items.put({"retry": int(v)})
                    elif k == "data" and "data" in fields:
                        fields["data"] += "\n" + v
                    else:
                        fields[k] = v
        except (OSError, http.client.HTTPException, ValueError, AttributeError):
            pass  # the stream ended or was shut down by close()
        finally:
            self.items.put(None)

    def next_item(self, timeout):
        try:
            return self.items.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None

    def next_event(self, timeout=SLOW_S):
        """The next event (comments and retry fields are skipped), or None."""
        deadline = time.monotonic() + timeout
        while True:
            item = self.next_item(deadline - time.monotonic())
            if item is None:
                return None
            if "event" in item:
                return item

    def events(self, n, timeout=SLOW_S):
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            e = self.next_event(deadline - time.monotonic())
            if e is None:
                break
            out.append(e)
        return out

    def close(self):
        """Shuts the socket down (the reader thread sees the end of the
        stream), then closes the connection."""
        if self.closed:
            return
        self.closed = True
        sock = self.conn.sock
        try:
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.thread.join(10)
        self.conn.close()


def idle_event_socket(port, rcvbuf=2048):
    """Opens GET /v1/events on a socket with a tiny receive buffer and never
    reads from it (a stuck or slow consumer)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(10)
    s.connect((HOST, port))
    s.sendall(b"GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
    return s
