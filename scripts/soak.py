#!/usr/bin/python3
"""Soak test: 50 keep-alive clients on every route while profiles reload.

    scripts/soak.py [--minutes N] [--rosterd PATH] [--connections 50]

Copies profiles/ (plus a few generated profiles) to a temporary directory,
starts `rosterd serve` on a free loopback port with file watching on, and
runs N minutes (default 10; `--minutes 1` for a quick run) of:

- 50 threads, each with one keep-alive connection, mixing every route: the
  list with filters, projections and cursors, each profile, every view,
  the prompt as Markdown and as JSON, the source, facets, diagnostics,
  revalidation with If-None-Match (304), gzip (Accept-Encoding), HEAD,
  OPTIONS, health/ready/metrics/version/openapi, and a few expected 4xx;
- every 3 seconds an edit in the profiles directory (atomic replace,
  in-place rewrite, a broken file that must be served stale, its repair,
  a profile added and removed), so the server reloads throughout.

Every response is checked (status in the set expected for that request,
JSON parses, gzip inflates, Content-Encoding and 304 semantics); an
exception, a timeout, an unexpected status or a bad body is an error.
Prints requests served, errors (must be 0), requests by status, reloads,
and the server's VmRSS after warm-up and at the end (growth above 8 MB
fails). Loopback only; stops by itself. Exits 1 on failure.
"""
import argparse
import collections
import gzip
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VIEWS = ["role", "competencies", "work-patterns", "tool-priorities", "output-standards",
         "anti-patterns", "sections", "lineage"]
J = "application/json"
MD = "text/markdown"

EXTRA = """---
id: {id}
name: {name}
category: {category}
description: Soak profile {n}
version: "{version}"
role: {role}
extends: {extends}
tags: [soak, t{n}]
---

# {name}

You are soak profile {n}, generation {version}.

## Core Competencies

- **Deploys**: ships changes safely
- **Observes**: reads dashboards

## Work Patterns

### Triage

Look first.

1. **Gather**: collect facts
   - logs
   - metrics

```bash
kubectl get pods
```

## Tool Priorities

1. **kubectl** (primary) - cluster access
2. **grep** - search

## Output Standards

### Report

| field | meaning |
|---|---|
| status | ok or not |

## Anti-Patterns

- ❌ Guessing
- ✅ Measuring
"""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def write_atomic(path, text):
    tmp = os.path.join(os.path.dirname(path), ".tmp-" + os.path.basename(path))
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def extra_profile(n, version, broken=False):
    text = EXTRA.format(id="soak-%02d" % n, name="Soak Worker %d" % n,
                        category="soak" if n % 2 else "worker", role="sre" if n % 3 else "devops",
                        extends="base" if n % 4 else "worker-sre", n=n, version=version)
    if broken:
        text = text.replace("---\n\n#", "\n#", 1)  # unclosed front matter
    return text


def free_port_of(pid, timeout=15):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if "pid=%d," % pid in line:
                m = re.search(r"127\.0\.0\.1:(\d+)", line)
                if m:
                    return int(m.group(1))
        time.sleep(0.05)
    return None


def vm(pid, key="VmRSS"):
    try:
        with open("/proc/%d/status" % pid) as f:
            m = re.search(r"%s:\s+(\d+) kB" % key, f.read())
            return int(m.group(1)) / 1024.0 if m else None
    except OSError:
        return None


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.by_status = collections.Counter()
        self.by_kind = collections.Counter()
        self.errors = collections.Counter()
        self.examples = []
        self.gzip = 0
        self.not_modified = 0
        self.stale = 0
        self.retries = 0

    def add(self, kind, status, error=None):
        with self.lock:
            self.requests += 1
            self.by_status[status] += 1
            self.by_kind[kind] += 1
            if error:
                self.errors[kind] += 1
                if len(self.examples) < 20:
                    self.examples.append("%s: %s" % (kind, error))


class Worker(threading.Thread):
    def __init__(self, port, stats, stop, seed, ids, volatile):
        super().__init__(daemon=True)
        self.port, self.stats, self.stop, self.rnd = port, stats, stop, random.Random(seed)
        self.ids, self.volatile = ids, volatile
        self.conn = None
        self.etags = {}

    def request(self, method, path, headers):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                self.conn.request(method, path, headers=headers)
                r = self.conn.getresponse()
                body = r.read()
                if (r.getheader("Connection") or "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r, body
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                # a keep-alive connection the server closed between requests
                # may be retried once on a new connection (as HTTP clients do)
                self.conn.close()
                self.conn = None
                with self.stats.lock:
                    self.stats.retries += 1
                if attempt == 1 or not isinstance(e, http.client.RemoteDisconnected):
                    raise
        raise AssertionError("unreachable")

    def pick(self):
        r = self.rnd
        pid = r.choice(self.ids)
        x = r.random()
        if x < 0.06:
            q = r.choice(["", "?category=worker", "?category=soak", "?role=sre", "?extends=base",
                          "?q=deploy", "?q=soak", "?fields=id,name,category", "?limit=3",
                          "?category=worker&role=devops&limit=2", "?q=%E2%9C%85"])
            return "list", "GET", "/v1/profiles" + q, {"Accept": J}, {200}
        if x < 0.09:
            return "list-pages", "GET", "/v1/profiles?limit=2", {"Accept": J}, {200}
        if x < 0.22:
            return "profile", "GET", "/v1/profiles/" + pid, {"Accept": J}, self.ok_for(pid)
        if x < 0.25:
            return "profile-fields", "GET", "/v1/profiles/%s?fields=id,lineage,role" % pid, {"Accept": J}, self.ok_for(pid)
        if x < 0.45:
            return "view", "GET", "/v1/profiles/%s/%s" % (pid, r.choice(VIEWS)), {"Accept": J}, self.ok_for(pid)
        if x < 0.52:
            return "prompt-md", "GET", "/v1/profiles/%s/prompt" % pid, {"Accept": MD}, self.ok_for(pid)
        if x < 0.57:
            return "prompt-json", "GET", "/v1/profiles/%s/prompt" % pid, {"Accept": J}, self.ok_for(pid)
        if x < 0.61:
            return "source", "GET", "/v1/profiles/%s/source" % pid, {"Accept": MD}, self.ok_for(pid)
        if x < 0.64:
            return "facets", "GET", "/v1/facets", {"Accept": J}, {200}
        if x < 0.67:
            return "diagnostics", "GET", r.choice(["/v1/diagnostics", "/v1/diagnostics?severity=warning",
                                                   "/v1/diagnostics?severity=error"]), {"Accept": J}, {200}
        if x < 0.77:
            path = r.choice(["/v1/profiles/" + pid, "/v1/profiles/%s/%s" % (pid, r.choice(VIEWS)),
                             "/v1/profiles", "/v1/facets"])
            return "gzip", "GET", path, {"Accept": J, "Accept-Encoding": "gzip"}, self.ok_for(pid) | {200}
        if x < 0.87:
            path = r.choice(["/v1/profiles/" + pid, "/v1/profiles/%s/prompt" % pid, "/v1/facets",
                             "/v1/profiles/%s/%s" % (pid, r.choice(VIEWS))])
            acc = MD if path.endswith("/prompt") else J
            gz = r.random() < 0.5
            h = {"Accept": acc}
            if gz:
                h["Accept-Encoding"] = "gzip"
            key = (path, acc, gz)
            if key in self.etags:
                h["If-None-Match"] = self.etags[key]
            return "revalidate", "GET", path, h, {200, 304} | self.ok_for(pid), key
        if x < 0.89:
            return "head", "HEAD", "/v1/profiles/" + pid, {"Accept": J}, self.ok_for(pid)
        if x < 0.90:
            return "options", "OPTIONS", "/v1/profiles/" + pid, {}, {204}
        if x < 0.95:
            path, acc = r.choice([("/health", J), ("/ready", J), ("/version", J),
                                  ("/metrics", "text/plain"), ("/openapi.yaml", "application/yaml")])
            return "ops", "GET", path, {"Accept": acc}, {200}
        path, st = r.choice([("/v1/profiles/no-such-profile", 404), ("/v1/profiles/%s/nope" % pid, 404),
                             ("/v1/profiles?limit=0", 400), ("/v1/profiles/BAD%20ID", 400),
                             ("/v1/nothing", 404)])
        return "expected-4xx", "GET", path, {"Accept": J}, {st}

    def ok_for(self, pid):
        return {200, 404} if pid in self.volatile else {200}

    def check(self, kind, method, path, headers, r, body):
        enc = r.getheader("Content-Encoding")
        if enc == "gzip":
            if "gzip" not in headers.get("Accept-Encoding", ""):
                return "gzip sent without Accept-Encoding"
            if method != "HEAD" and r.status == 200:
                body = gzip.decompress(body)
                with self.stats.lock:
                    self.stats.gzip += 1
        if r.status == 304:
            if "If-None-Match" not in headers:
                return "304 without If-None-Match"
            with self.stats.lock:
                self.stats.not_modified += 1
            return None
        if r.getheader("Warning", "").startswith("299"):
            with self.stats.lock:
                self.stats.stale += 1
        if method == "HEAD" or r.status == 204:
            return None
        ct = r.getheader("Content-Type", "")
        if "json" in ct:
            doc = json.loads(body)
            if kind == "list-pages":
                pages = 0
                while doc.get("next_cursor") and pages < 20:
                    pages += 1
                    r2, b2 = self.request("GET", "/v1/profiles?limit=2&cursor=" + doc["next_cursor"], {"Accept": J})
                    self.stats.add("list-next-page", r2.status, None if r2.status == 200 else "cursor page -> %d" % r2.status)
                    if r2.status != 200:
                        return None
                    doc = json.loads(b2)
        elif r.status == 200 and not body:
            return "empty body"
        return None

    def run(self):
        while not self.stop.is_set():
            spec = self.pick()
            kind, method, path, headers, ok = spec[:5]
            try:
                r, body = self.request(method, path, headers)
                err = None if r.status in ok else "%s %s -> %d (expected %s)" % (method, path, r.status, sorted(ok))
                if err is None:
                    err = self.check(kind, method, path, headers, r, body)
                if len(spec) > 5 and r.status == 200 and r.getheader("ETag"):
                    self.etags[spec[5]] = r.getheader("ETag")
                self.stats.add(kind, r.status, err)
            except Exception as e:  # every failure is counted, the loop goes on
                self.stats.add(kind, "exception", "%s %s: %r" % (method, path, e))
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                time.sleep(0.05)
        if self.conn is not None:
            self.conn.close()


def editor(d, stop, period, counts, stats):
    """Changes the profiles directory every `period` seconds."""
    sre = os.path.join(d, "worker-sre.md")
    with open(sre) as f:
        sre_text = f.read()
    step = 0
    while not stop.wait(period):
        step += 1
        action = step % 6
        try:
            if action == 0:  # atomic replace of a bundled profile
                write_atomic(sre, sre_text.replace("\n---\n", "\nsoak_edit: %d\n---\n" % step, 1))
            elif action == 1:  # in-place rewrite (truncate + write)
                with open(os.path.join(d, "soak", "soak-01.md"), "w") as f:
                    f.write(extra_profile(1, "1.%d" % step))
            elif action == 2:  # break a served profile: it stays served, stale
                write_atomic(os.path.join(d, "soak", "soak-02.md"), extra_profile(2, "2.%d" % step, broken=True))
            elif action == 3:  # repair it
                write_atomic(os.path.join(d, "soak", "soak-02.md"), extra_profile(2, "2.%d" % step))
            elif action == 4:  # add a profile
                write_atomic(os.path.join(d, "soak", "soak-99.md"), extra_profile(99, "9.%d" % step))
            else:  # and remove it
                try:
                    os.unlink(os.path.join(d, "soak", "soak-99.md"))
                except FileNotFoundError:
                    pass
            counts[action] += 1
        except OSError as e:
            stats.add("editor", "exception", "edit %d: %r" % (action, e))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--rosterd", default=os.path.join(ROOT, "build/service/rosterd"))
    ap.add_argument("--reload-every", type=float, default=3.0)
    ap.add_argument("--max-growth-mb", type=float, default=8.0)
    ap.add_argument("--warmup", type=float, default=None, help="seconds before the start RSS (default: 5%% of the run, 10..60 s)")
    args = ap.parse_args()
    duration = max(10.0, args.minutes * 60.0)
    warm = args.warmup if args.warmup is not None else min(60.0, max(10.0, duration * 0.05))
    conns = max(1, min(args.connections, 200))

    top = tempfile.mkdtemp(prefix="roster-soak-")
    d = os.path.join(top, "profiles")
    shutil.copytree(os.path.join(ROOT, "profiles"), d)
    os.makedirs(os.path.join(d, "soak"))
    for n in range(1, 13):
        with open(os.path.join(d, "soak", "soak-%02d.md" % n), "w") as f:
            f.write(extra_profile(n, "1.0"))
    ids = ["base", "worker-devops", "worker-sre"] + ["soak-%02d" % n for n in range(1, 13)] + ["soak-99"]
    volatile = {"soak-99"}

    logpath = os.path.join(top, "rosterd.log")
    logf = open(logpath, "wb")
    cmd = [args.rosterd, "serve", "--listen", "127.0.0.1:0", "--profiles", d, "--log-level", "warn",
           "--debounce-ms", "100"]
    log("soak: " + " ".join(cmd))
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=logf, stdin=subprocess.DEVNULL)
    failures = []
    stats = Stats()
    stop = threading.Event()
    try:
        port = free_port_of(proc.pid)
        if port is None:
            sys.exit("soak.py: rosterd did not start (see %s)" % logpath)
        end = time.monotonic() + 15
        while time.monotonic() < end:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/ready")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.05)
        rss0 = vm(proc.pid)
        log("soak: port %d, %d connections, %.1f min, reload every %.0fs, RSS at ready %.1f MB" % (
            port, conns, duration / 60, args.reload_every, rss0))

        workers = [Worker(port, stats, stop, i, ids, volatile) for i in range(conns)]
        counts = collections.Counter()
        ed = threading.Thread(target=editor, args=(d, stop, args.reload_every, counts, stats), daemon=True)
        t0 = time.monotonic()
        for w in workers:
            w.start()
        ed.start()
        samples = []
        rss_warm = None
        next_report = t0 + 60
        while time.monotonic() - t0 < duration:
            time.sleep(1)
            now = time.monotonic() - t0
            if proc.poll() is not None:
                failures.append("server exited during the soak with %s" % proc.returncode)
                break
            r = vm(proc.pid)
            samples.append((now, r))
            if rss_warm is None and now >= warm:
                rss_warm = r
            if time.monotonic() >= next_report:
                next_report += 60
                log("soak: t=%4.0fs requests=%d errors=%d rss=%.1f MB" % (
                    now, stats.requests, sum(stats.errors.values()), r or -1))
        stop.set()
        for w in workers:
            w.join(15)
        ed.join(10)
        elapsed = time.monotonic() - t0
        rss_end = vm(proc.pid)
        hwm = vm(proc.pid, "VmHWM")
        gen = None
        reloads = {}
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/ready", headers={"Accept": J})
            gen = json.loads(c.getresponse().read()).get("generation")
            c.request("GET", "/metrics", headers={"Accept": "text/plain"})
            for line in c.getresponse().read().decode().splitlines():
                m = re.match(r'roster_reloads_total\{result="(\w+)"\} (\d+)', line)
                if m:
                    reloads[m.group(1)] = int(m.group(2))
            c.close()
        except (OSError, ValueError) as e:
            failures.append("cannot read /ready or /metrics at the end: %r" % e)

        # ---- report
        nerr = sum(stats.errors.values())
        print()
        print("soak: %.1f minutes, %d keep-alive connections, an edit every %.0fs" % (elapsed / 60, conns, args.reload_every))
        print("requests served : %d (%.0f/s)" % (stats.requests, stats.requests / elapsed))
        print("errors          : %d" % nerr)
        print("by status       : %s" % ", ".join("%s: %d" % (k, v) for k, v in sorted(stats.by_status.items(), key=str)))
        print("by kind         : %s" % ", ".join("%s: %d" % kv for kv in sorted(stats.by_kind.items())))
        print("gzip bodies     : %d inflated; 304s: %d; stale (Warning 299): %d; keep-alive connections "
              "closed by the server and retried: %d" % (stats.gzip, stats.not_modified, stats.stale, stats.retries))
        print("edits           : %d (%s); generation at end %s; reloads %s" % (
            sum(counts.values()), ", ".join("%s %d" % (k, counts[i]) for i, k in enumerate(
                ["replace", "rewrite", "break", "repair", "add", "remove"])), gen,
            ", ".join("%s %d" % kv for kv in sorted(reloads.items())) or "?"))
        growth = (rss_end or 0) - (rss_warm or rss0 or 0)
        print("server VmRSS    : %.1f MB at ready, %.1f MB after %.0fs warm-up, %.1f MB at end (growth %+.1f MB, limit %.0f); VmHWM %.1f MB" % (
            rss0 or -1, rss_warm or -1, warm, rss_end or -1, growth, args.max_growth_mb, hwm or -1))
        if samples:
            step = max(1, len(samples) // 10)
            print("VmRSS samples   : " + ", ".join("%.0fs %.1f" % (t, r or -1) for t, r in samples[::step]))
        for e in stats.examples:
            print("error: " + e)
        if nerr:
            failures.append("%d errors" % nerr)
        if growth > args.max_growth_mb:
            failures.append("RSS grew %.1f MB (limit %.0f MB)" % (growth, args.max_growth_mb))
        if not reloads.get("success"):
            failures.append("no successful reload was counted")
    finally:
        stop.set()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(20)
                if rc != 0:
                    failures.append("server exit code %d after SIGTERM" % rc)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                failures.append("server did not stop within 20s of SIGTERM")
        logf.close()
        with open(logpath, "rb") as f:
            text = f.read()
        events = collections.Counter(m.decode() for m in re.findall(rb'"event":"([a-z_]+)"', text))
        print("server log      : " + (", ".join("%s %d" % kv for kv in sorted(events.items())) or "(empty)"))
        for marker in (b"AddressSanitizer", b"runtime error", b"LeakSanitizer"):
            if marker in text:
                failures.append("sanitizer output in the server log")
        shutil.rmtree(top, ignore_errors=True)

    print()
    if failures:
        for f in failures:
            print("FAIL: %s" % f)
        print("RESULT: FAIL")
        return 1
    print("RESULT: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
