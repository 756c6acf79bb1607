"""SIGTERM: in-flight and already-sent requests complete, readiness goes 503,
the process exits 0 within --shutdown-timeout. Loopback only, bounded counts."""
import gzip
import json
import signal
import threading
import time

import requests

SHUTDOWN_TIMEOUT = 5
THREADS = 8
MAX_PER_THREAD = 300
WARM_RESPONSES = 200
PATHS = ["/v1/profiles", "/v1/profiles/fx-leaf", "/v1/profiles/base/sections", "/v1/profiles/fx-leaf/prompt",
         "/v1/facets", "/v1/diagnostics", "/health", "/version", "/v1/profiles?category=fixture&fields=id"]


class Worker(threading.Thread):
    def __init__(self, base, n, stop):
        super().__init__(daemon=True)
        self.base, self.n, self.stop = base, n, stop
        self.results = []  # dicts: sent, done, status, length, content_length, json_ok, close, error

    def run(self):
        session = requests.Session()
        try:
            for i in range(MAX_PER_THREAD):
                if self.stop.is_set():
                    break
                path = PATHS[(self.n + i) % len(PATHS)]
                rec = {"path": path, "sent": time.monotonic()}
                self.results.append(rec)
                try:
                    headers = {"Accept": "application/json"} if path.endswith("/prompt") else {}
                    r = session.get(self.base + path, headers=headers, timeout=(2, 5), stream=True)
                    wire = r.raw.read(decode_content=False)
                    body = gzip.decompress(wire) if r.headers.get("Content-Encoding") == "gzip" else wire
                    rec.update(status=r.status_code, length=len(wire),
                               content_length=int(r.headers.get("Content-Length", -1)),
                               close=r.headers.get("Connection", "").lower() == "close")
                    try:
                        json.loads(body)
                        rec["json_ok"] = True
                    except ValueError:
                        rec["json_ok"] = False
                    r.close()
                except requests.RequestException as e:
                    rec["error"] = repr(e)
                rec["done"] = time.monotonic()
                if "error" in rec or rec.get("close"):
                    break
        finally:
            session.close()


def test_sigterm_mid_burst(spawn):
    srv = spawn(args=["--shutdown-timeout", str(SHUTDOWN_TIMEOUT)])
    stop = threading.Event()
    workers = [Worker(srv.base, n, stop) for n in range(THREADS)]
    for w in workers:
        w.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        done = [sum(1 for r in w.results if "status" in r) for w in workers]
        if sum(done) >= WARM_RESPONSES and min(done) >= 3:
            break
        time.sleep(0.005)
    t_sig = time.monotonic()
    srv.signal(signal.SIGTERM)
    try:
        rc = srv.proc.wait(SHUTDOWN_TIMEOUT + 3)
    finally:
        stop.set()
        for w in workers:
            w.join(10)
    elapsed = time.monotonic() - t_sig
    assert rc == 0
    assert elapsed <= SHUTDOWN_TIMEOUT + 1, f"exit took {elapsed:.2f}s"
    assert not any(w.is_alive() for w in workers)

    results = [r for w in workers for r in w.results]
    answered = [r for r in results if "status" in r]
    assert len(answered) >= WARM_RESPONSES
    for r in answered:
        assert r["status"] == 200, r
        assert r["length"] == r["content_length"], r
        assert r["json_ok"], r
    before = [r for r in results if r["sent"] < t_sig]
    failed_before = [r for r in before if "error" in r]
    assert not failed_before, failed_before[:5]
    # the drain told every kept-alive client to go away (or its next connection was refused)
    after = [r for r in answered if r["sent"] >= t_sig]
    assert all(r["close"] for r in after if r["done"] > t_sig + 0.2)
    for w in workers:
        last = w.results[-1]
        assert last.get("close") or ("error" in last and last["sent"] >= t_sig), last

    srv.stop()
    events = [d["event"] for d in srv.records()]
    assert events.count("signal") == 1 and "draining" in events and events[-1] == "stop"
    stop_line = srv.records()[-1]
    assert stop_line["requests_unfinished"] == 0
    # one request line per answered request
    lines = [d for d in srv.records() if d.get("event") == "request"]
    assert len(lines) >= len(answered)
    assert all(d["status"] == 200 for d in lines)


def test_ready_503_on_open_connection_while_draining(spawn):
    srv = spawn(args=["--drain-delay", "1", "--shutdown-timeout", "2"])
    s = requests.Session()
    assert s.get(srv.base + "/ready", timeout=5).status_code == 200
    srv.signal(signal.SIGTERM)
    time.sleep(0.3)
    m = s.get(srv.base + "/metrics", timeout=5)
    assert m.status_code == 200 and "\nroster_ready 0\n" in m.text
    r = s.get(srv.base + "/ready", timeout=5)
    assert r.status_code == 503
    assert r.json()["code"] == "not_ready" and r.json()["detail"] == "the server is shutting down"
    assert r.headers["Connection"].lower() == "close"
    s.close()
    assert srv.proc.wait(10) == 0


def test_ready_503_for_new_connections_during_drain_delay(spawn):
    """--drain-delay: "seconds to keep serving with readiness 503 before closing the listener"."""
    srv = spawn(args=["--drain-delay", "2", "--shutdown-timeout", "1"])
    assert requests.get(srv.base + "/ready", timeout=5).status_code == 200
    srv.signal(signal.SIGTERM)
    time.sleep(0.3)
    try:
        r = requests.get(srv.base + "/ready", timeout=1)
        status = r.status_code
    except requests.RequestException as e:
        status = repr(e)
    assert status == 503, f"a new connection during the drain delay got {status}, not a 503"
    assert srv.proc.wait(10) == 0


def test_idle_keepalive_connection_does_not_hold_shutdown(spawn):
    """An idle kept-alive connection has nothing in flight: draining should not wait for it."""
    srv = spawn(args=["--shutdown-timeout", "3"])
    s = requests.Session()
    assert s.get(srv.base + "/health", timeout=5).status_code == 200
    t0 = time.monotonic()
    srv.signal(signal.SIGTERM)
    rc = srv.proc.wait(10)
    elapsed = time.monotonic() - t0
    s.close()
    assert rc == 0
    assert elapsed < 1.0, f"shutdown waited {elapsed:.2f}s for an idle connection"


def test_sigint_also_drains(spawn):
    srv = spawn()
    srv.signal(signal.SIGINT)
    assert srv.proc.wait(5) == 0
    srv.stop()
    assert any(d.get("signal") == "SIGINT" for d in srv.records())
