#!/usr/bin/python3
"""First-request latency and memory after touching every representation.

    bench/first-request.py --base http://127.0.0.1:PORT [--count 300] [--seed 1]
                           [--all] [--pid PID] [--views role,...]

1. Lists every profile id (GET /v1/profiles?limit=500, following next_cursor;
   a server that ignores the query and answers the whole list works too).
2. Requests the full profile (GET /v1/profiles/{id}) of --count distinct ids,
   chosen with random.Random(--seed) from the sorted list, one after another
   on one fresh keep-alive connection (warmed with one GET /health, whatever
   it answers), and reports p50/p99/max latency in ms (nearest rank; a
   latency runs from sending the request to having read the whole body).
   These ids must not have been requested before: run it against a server
   that has just become ready. When the server has /metrics, the growth of
   roster_representations_rendered_total is reported ("rendered"): equal to
   --count when every one of these requests rendered its representation.
3. With --all: requests every profile's full JSON and then every view of it
   (--views, default all ten: role competencies work-patterns
   tool-priorities output-standards anti-patterns sections lineage, with
   Accept: application/json; prompt and source with Accept: text/markdown),
   i.e. 11 requests per profile, and reports how long that took, the latency
   percentiles, and with --pid the VmRSS / VmHWM of that process afterwards.

Prints one JSON line (flat keys, first_* and all_*) and then one human line.
Traffic goes to the loopback only (the --base host must be 127.0.0.1,
localhost or ::1). Every request has a --timeout (10 s) and the whole run a
--deadline (1800 s; past it the run stops and reports "incomplete": true).
Exit status: 0 when every request answered 200, 1 when some did not (or the
run was cut short), 2 when the server could not be listed at all.
Standard library only; run with /usr/bin/python3.
"""

import argparse
import http.client
import json
import random
import re
import sys
import time
import urllib.parse

JSON_VIEWS = ["role", "competencies", "work-patterns", "tool-priorities",
              "output-standards", "anti-patterns", "sections", "lineage"]
MARKDOWN_VIEWS = ["prompt", "source"]
ALL_VIEWS = JSON_VIEWS + MARKDOWN_VIEWS
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class Deadline(Exception):
    pass


class Client:
    """One keep-alive connection; reconnects when the server closes it."""

    def __init__(self, host, port, timeout, deadline):
        self.host, self.port, self.timeout, self.deadline = host, port, timeout, deadline
        self.conn = None
        self.connects = 0

    def _open(self):
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        self.conn.connect()
        self.connects += 1

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def get(self, path, accept="application/json"):
        """-> (status, body bytes, headers, seconds); status 0 on a socket error."""
        if time.monotonic() > self.deadline:
            raise Deadline()
        for attempt in (0, 1):
            if self.conn is None:
                self._open()
            t0 = time.perf_counter()
            try:
                self.conn.request("GET", path, headers={"Accept": accept})
                resp = self.conn.getresponse()
                body = resp.read()
                dt = time.perf_counter() - t0
                if resp.will_close:
                    self.close()
                return resp.status, body, resp.headers, dt
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # a keep-alive connection the server had closed: retry once on a new one
                self.close()
                if attempt:
                    return 0, b"", None, time.perf_counter() - t0
            except (OSError, http.client.HTTPException):
                self.close()
                return 0, b"", None, time.perf_counter() - t0
        return 0, b"", None, 0.0


def pct(sorted_vals, p):
    """nearest-rank percentile of an ascending list (0 for an empty one)"""
    if not sorted_vals:
        return 0.0
    k = max(1, -(-len(sorted_vals) * p // 100))
    return sorted_vals[int(k) - 1]


def list_ids(cl):
    ids, cursor, pages = [], None, 0
    while True:
        path = "/v1/profiles?limit=500"
        if cursor:
            path += "&cursor=" + urllib.parse.quote(cursor, safe="")
        st, body, _, _ = cl.get(path)
        if st != 200:
            raise RuntimeError("GET %s answered %s" % (path, st or "no response"))
        doc = json.loads(body)
        ids.extend(item["id"] for item in doc.get("items", []))
        pages += 1
        cursor = doc.get("next_cursor")
        if not cursor or pages > 100000:
            break
    return ids


def rendered_total(cl):
    """roster_representations_rendered_total from /metrics, or None"""
    st, body, _, _ = cl.get("/metrics", accept="text/plain")
    if st != 200:
        return None
    m = re.search(rb"^roster_representations_rendered_total\s+([0-9.eE+]+)", body, re.M)
    return int(float(m.group(1))) if m else None


def proc_status(pid):
    """-> (VmRSS kB, VmHWM kB), None for what cannot be read"""
    rss = hwm = None
    if pid:
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss = int(line.split()[1])
                    elif line.startswith("VmHWM:"):
                        hwm = int(line.split()[1])
        except OSError:
            pass
    return rss, hwm


def quote_id(pid):
    return urllib.parse.quote(pid, safe="")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", required=True, help="http://127.0.0.1:PORT")
    ap.add_argument("--count", type=int, default=300, help="first requests (default 300)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--all", action="store_true",
                    help="then request every profile's full JSON and every view once")
    ap.add_argument("--pid", type=int, default=0, help="server pid, for VmRSS/VmHWM")
    ap.add_argument("--views", default=",".join(ALL_VIEWS),
                    help="views for --all, comma-separated (default: all ten)")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per request (10)")
    ap.add_argument("--deadline", type=float, default=1800.0,
                    help="seconds for the whole run (1800)")
    args = ap.parse_args()

    u = urllib.parse.urlsplit(args.base)
    if u.scheme != "http" or not u.port or u.hostname not in LOOPBACK:
        ap.error("--base must be http://127.0.0.1:PORT (loopback only), got %r" % args.base)
    if args.count < 0:
        ap.error("--count must be >= 0")
    views = [v for v in args.views.split(",") if v]
    for v in views:
        if v not in ALL_VIEWS:
            ap.error("unknown view %r (views: %s)" % (v, ", ".join(ALL_VIEWS)))

    deadline = time.monotonic() + args.deadline
    res = {"base": args.base, "seed": args.seed, "incomplete": False}
    errors = []

    admin = Client(u.hostname, u.port, args.timeout, deadline)
    try:
        ids = list_ids(admin)
    except (RuntimeError, ValueError, KeyError, OSError, Deadline) as e:
        print(json.dumps({"base": args.base, "error": "cannot list profiles: %s" % e}))
        print("first-request: cannot list profiles at %s: %s" % (args.base, e))
        return 2
    res["ids"] = len(ids)
    r0 = rendered_total(admin)
    rss0, _ = proc_status(args.pid)
    res["rss_before_kb"] = rss0

    # --- first requests -------------------------------------------------------
    rng = random.Random(args.seed)
    pick = rng.sample(sorted(ids), min(args.count, len(ids)))
    cl = Client(u.hostname, u.port, args.timeout, deadline)
    lat, bad = [], 0
    try:
        cl.get("/health")  # opens and warms the connection; any status will do
        for pid in pick:
            st, _, _, dt = cl.get("/v1/profiles/" + quote_id(pid))
            lat.append(dt * 1000.0)
            if st != 200:
                bad += 1
                if len(errors) < 5:
                    errors.append("GET /v1/profiles/%s -> %s" % (pid, st or "no response"))
    except Deadline:
        res["incomplete"] = True
    lat.sort()
    r1 = rendered_total(admin)
    res.update({
        "first_count": len(lat), "first_errors": bad,
        "first_p50_ms": round(pct(lat, 50), 3), "first_p99_ms": round(pct(lat, 99), 3),
        "first_max_ms": round(lat[-1] if lat else 0.0, 3),
        "first_mean_ms": round(sum(lat) / len(lat), 3) if lat else 0.0,
        "first_rendered": (r1 - r0) if r0 is not None and r1 is not None else None,
        "first_connects": cl.connects,
    })
    cl.close()

    # --- every representation --------------------------------------------------
    if args.all and not res["incomplete"]:
        lat2, bad2, nbytes = [], 0, 0
        cl = Client(u.hostname, u.port, args.timeout, deadline)
        t0 = time.perf_counter()
        try:
            for pid in ids:
                q = quote_id(pid)
                reqs = [("/v1/profiles/" + q, "application/json")]
                reqs += [("/v1/profiles/%s/%s" % (q, v),
                          "text/markdown" if v in MARKDOWN_VIEWS else "application/json")
                         for v in views]
                for path, accept in reqs:
                    st, body, _, dt = cl.get(path, accept)
                    lat2.append(dt * 1000.0)
                    nbytes += len(body)
                    if st != 200:
                        bad2 += 1
                        if len(errors) < 10:
                            errors.append("GET %s (Accept %s) -> %s" % (path, accept,
                                                                        st or "no response"))
        except Deadline:
            res["incomplete"] = True
        secs = time.perf_counter() - t0
        cl.close()
        lat2.sort()
        r2 = rendered_total(admin)
        rss2, hwm2 = proc_status(args.pid)
        res.update({
            "all_requests": len(lat2), "all_errors": bad2, "all_seconds": round(secs, 3),
            "all_bytes": nbytes, "all_views": len(views) + 1,
            "all_p50_ms": round(pct(lat2, 50), 3), "all_p99_ms": round(pct(lat2, 99), 3),
            "all_max_ms": round(lat2[-1] if lat2 else 0.0, 3),
            "all_rendered": (r2 - r1) if r1 is not None and r2 is not None else None,
            "all_rss_kb": rss2, "all_hwm_kb": hwm2,
        })
    admin.close()
    if errors:
        res["error_samples"] = errors

    print(json.dumps(res, sort_keys=True))
    line = "first-request: %d ids; %d first requests p50 %.2f ms p99 %.2f ms max %.2f ms" % (
        res["ids"], res["first_count"], res["first_p50_ms"], res["first_p99_ms"],
        res["first_max_ms"])
    if res["first_rendered"] is not None:
        line += " (%d rendered)" % res["first_rendered"]
    if res["first_errors"]:
        line += ", %d not 200" % res["first_errors"]
    if "all_requests" in res:
        line += "; all %d requests (%d per profile) in %.1f s, p99 %.2f ms" % (
            res["all_requests"], res["all_views"], res["all_seconds"], res["all_p99_ms"])
        if res["all_errors"]:
            line += ", %d not 200" % res["all_errors"]
        if res["all_rss_kb"] is not None:
            line += ", then VmRSS %.1f MB (VmHWM %.1f MB)" % (res["all_rss_kb"] / 1024.0,
                                                               res["all_hwm_kb"] / 1024.0)
    if res["incomplete"]:
        line += "; INCOMPLETE: --deadline %g s passed" % args.deadline
    print(line)
    for e in errors:
        print("  " + e)
    ok = not res["incomplete"] and res["first_errors"] == 0 and res.get("all_errors", 0) == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
